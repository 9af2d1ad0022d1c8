/* no_symbol.so: a shared object that exports no poshta_module, as when
 * someone forgets PS_MODULE_DEFINE or loads a library that is not a
 * module. The loader must say so in one line naming the file. */
#include <poshta/types.h>

/* Nearly right, which is the mistake worth testing: a misspelt name. */
PS_EXPORT const int poshta_modules = 1;
