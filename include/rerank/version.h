#pragma once
#define RERANK_VERSION_STRING "0.1.0"
