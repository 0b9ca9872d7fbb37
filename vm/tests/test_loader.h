/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared bits of the loader tests (test_loader.c, test_loader_bad.c). */
#ifndef TEST_LOADER_H
#define TEST_LOADER_H

#include <stdio.h>

#include "sl_vm.h"
#include "loader_ref.h"
#include "sl_test.h"

extern const char *tl_objdir, *tl_readelf, *tl_objdump;

/** OBJDIR/obj */
void tl_path(char *buf, size_t len, const char *obj);
/** Open OBJDIR/obj (and fill @p ref when not NULL); NULL counts a failure. */
struct sl_obj *tl_open(const char *obj, struct ref_obj *ref);
/** Map of @p obj named @p name, or NULL. */
struct sl_map *tl_map_by_name(const struct sl_obj *obj, const char *name);
/** Check every instruction, relocation and call of @p prog against @p ref. */
void tl_check_prog(const struct ref_obj *ref, const struct sl_prog *prog);
/** The bad-file tests. */
void tl_bad_files(void);

#endif
