/*
 * Explicit big- and little-endian loads and stores at a byte pointer. On-disk structures are
 * always read field by field through these, never by casting a struct over the bytes.
 */
#ifndef RP_COMMON_ENDIAN_H
#define RP_COMMON_ENDIAN_H

#include <stdint.h>

static inline uint16_t rp_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t rp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rp_be64(const uint8_t *p)
{
	return (uint64_t)rp_be32(p) << 32 | rp_be32(p + 4);
}

static inline uint16_t rp_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static inline uint32_t rp_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t rp_le64(const uint8_t *p)
{
	return rp_le32(p) | (uint64_t)rp_le32(p + 4) << 32;
}

static inline void rp_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void rp_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void rp_put_be64(uint8_t *p, uint64_t v)
{
	rp_put_be32(p, (uint32_t)(v >> 32));
	rp_put_be32(p + 4, (uint32_t)v);
}

static inline void rp_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void rp_put_le64(uint8_t *p, uint64_t v)
{
	rp_put_le32(p, (uint32_t)v);
	rp_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
