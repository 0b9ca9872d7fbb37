/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interpreter, verified mode: the run loop of interp_loop.h with no
 * run-time checks on memory (the verifier proved every access). Only the
 * call depth is still checked, since it guards the interpreter's own stack.
 */
#include "vm_internal.h"

#define SL_VM_CHECKED 0
#define SL_VM_RUN_FN vm_run_fast
#include "interp_loop.h"
