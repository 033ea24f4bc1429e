#include "tool.h"
int tool_export(const tool_args *a) { (void)a; return 0; }
