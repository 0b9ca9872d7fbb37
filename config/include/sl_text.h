/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file sl_text.h
 * The one text <-> bytes conversion of map keys and values, typed through
 * the object's BTF. Preload files, `sluice ctl map lookup/update/dump` and
 * the JSON report all go through it, so a key printed by one is read back
 * by the others.
 *
 * Text syntax (what sl_text_parse() reads and sl_text_format() writes):
 *
 *   integers      42, -7, 0x2a (BTF INT and ENUM; host byte order; a
 *                 typedef __be16/__be32/__be64 is stored big-endian);
 *                 an enum also takes its enumerator names
 *   IPv4          10.0.0.1 for any 4-byte integer or u8[4] (the address's
 *                 bytes in network order, as the packet carries it)
 *   IPv6          2001:db8::1 for any 16-byte array or struct in6_addr
 *   MAC           02:00:00:00:00:01 for u8[6]
 *   bytes         0a:00:00:01 (two hex digits a byte, colon-separated) for
 *                 any type, and the only form of an untyped key or value
 *                 (no BTF), besides an integer when its size is 1, 2, 4 or 8
 *   prefix        10.0.0.0/8, 2001:db8::/32 for the key of an LPM_TRIE map
 *                 (struct bpf_lpm_trie_key layout: u32 prefixlen, then the
 *                 address bytes); the prefix length is checked against the
 *                 address size
 *   struct        {a: 1, b: 10.0.0.1} by member name, or {1, 10.0.0.1} by
 *                 position; members left out are zero; a union takes one
 *                 member, {name: value}, or its first by position
 *   array         [1, 2, 3] (shorter lists leave the rest zero); char[N]
 *                 also takes "a string" (NUL-padded)
 *   float         1.5 (BTF FLOAT of 4 or 8 bytes)
 *
 * Formatting picks, for each member, the form a reader would write:
 * IPv4 for a 4-byte integer or u8[4] member whose name contains "addr" or
 * ends in "ip", "ip4", "ipv4" (and for a whole key or value of type
 * __be32); IPv6 for u8[16] members named so and for struct in6_addr;
 * colon-separated bytes for other u8[N] (so a MAC for u8[6]); a quoted
 * string for printable char[N]; a prefix for LPM_TRIE keys; enumerator
 * names for enums; decimal otherwise (big-endian typedefs converted).
 *
 * The JSON form (sl_text_format_json) writes one JSON value: numbers for
 * integers and floats, strings for addresses, prefixes, MACs, enumerators
 * and byte strings, objects for structs and unions, arrays for arrays.
 *
 * Bitfield members, pointers and functions are refused (-ENOTSUP) when
 * parsing; formatting prints a bitfield as an integer, anything else it
 * has no form for as bytes.
 *
 * Every function is for the control thread; errors are one phrase in @p err that the caller prefixes
 * with where the text came from ("blocklist.txt:4: ").
 */
#ifndef SL_TEXT_H
#define SL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;
struct sl_obj;
struct sl_map;

/** How a key or a value is typed. Fill with sl_text_map_types(), or by hand. */
struct sl_text_type {
	const struct btf *btf;  /**< NULL: untyped (bytes, or an integer of 1/2/4/8 bytes) */
	uint32_t id;            /**< BTF type id in @c btf; 0: untyped */
	uint32_t size;          /**< bytes of the key or value (the map's key_size / value_size) */
	bool lpm_key;           /**< the key of an LPM_TRIE map: prefix form */
	/**
	 * A CPUMAP value (sl_text_map_types): an integer may also be the name
	 * of a program of this object, read as the program's id (1 + its
	 * position in the object: engine/cpumap.c's ids), for bpf_prog.fd/id.
	 */
	const struct sl_obj *progs;
};

/**
 * Types of @p map's key and value from @p obj's BTF (untyped where the map
 * has no BTF type); sizes from the map's definition (a per-CPU value is
 * one slot: value_size).
 * @return 0, or -ENOENT when @p map is not in @p obj.
 */
int sl_text_map_types(const struct sl_obj *obj, const struct sl_map *map,
		      struct sl_text_type *key, struct sl_text_type *value);

/**
 * Parse @p text into @p out (t->size bytes, zeroed first).
 * @return 0, or -EINVAL (not that kind of text), -ERANGE (a number or a
 *         prefix length out of range), -ENOTSUP (a type the syntax cannot
 *         express), with one phrase in @p err: "want an IPv4 prefix
 *         (10.0.0.0/8), not '10.0.0.0/33'".
 */
int sl_text_parse(const struct sl_text_type *t, const char *text, void *out, char *err,
		  size_t errlen);

/**
 * Write @p bytes (t->size bytes) as text that sl_text_parse() reads back.
 * @return the length of the whole text (as snprintf: >= @p len means it was
 *         cut short, the buffer still NUL-terminated), or -EINVAL for a
 *         broken type.
 */
int sl_text_format(const struct sl_text_type *t, const void *bytes, char *buf, size_t len);

/** Same as sl_text_format(), as one JSON value (see the file comment). */
int sl_text_format_json(const struct sl_text_type *t, const void *bytes, char *buf, size_t len);

/**
 * Where the next token of a preload line ends: a token is a run of
 * non-blanks, where {...} and [...] nest and "..." quotes (so a struct
 * with spaces is one token). @return pointer one past the token (at a
 * blank or the NUL), or NULL on an unbalanced bracket or quote.
 */
const char *sl_text_token_end(const char *s);

/**
 * Does a member or variable @p name say it holds an address ("*addr*",
 * "*ip", "*ip4", "*ipv4", "*ip6", "*ipv6")? Typed text shows such 4- and
 * 16-byte values as IPv4 / IPv6 addresses (also ctl's compiled dump texts).
 */
bool sl_text_addr_hint(const char *name);

#endif
