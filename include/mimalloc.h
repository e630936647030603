/* mimic: mimalloc-compatible allocator (MIT license, see LICENSE).
   Programs written for mimalloc include <mimalloc.h>; the whole interface is in mimic.h. */
#pragma once
#ifndef MIMIC_MIMALLOC_H
#define MIMIC_MIMALLOC_H
#include "mimic.h"
#endif
