/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of config/: shared by config.c (the YAML file) and config_cli.c (overrides, checks). */
#ifndef SL_CONFIG_INTERNAL_H
#define SL_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_config.h"

/** @p rel made relative to @p dir (unless absolute, or @p dir is ""). 0 or -ENAMETOOLONG. */
int config_join(const char *dir, const char *rel, char *dst, size_t len);
/** Directory part of @p path ("" for a bare file name). */
void config_dirname(const char *path, char *dir, size_t len);
/** A name a port may have: [A-Za-z][A-Za-z0-9_-]*, not "self" or "drop". */
bool config_name_ok(const char *name);
/** A device string: "net_<driver>[,k=v...]" or a PCI address; else -EINVAL with a phrase. */
int config_device_check(const char *dev, char *why, size_t len);
/** @p dev with the rx_pcap= / tx_pcap= files made relative to @p dir. 0 or -ENAMETOOLONG. */
int config_device_paths(const char *dir, const char *dev, char *dst, size_t len);
/** The device's name: the part before the first ','. */
void config_device_name(const char *dev, char *name, size_t len);
/** Defaults of a port (promiscuous on). */
void config_port_init(struct sl_config_port *port);
/** Map entry named @p name, or NULL. */
struct sl_config_map *config_find_map(struct sl_config *cfg, const char *name);

#endif
