/* mimic: exporting the C library's allocation names (issue 5 fills this in). */
#include "mimic/internal.h"

bool _mi_free_foreign(void* p) { (void)p; return false; }
bool mi_is_redirected(void) mi_attr_noexcept { return false; }
