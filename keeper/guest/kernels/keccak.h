/* keccak256 (the original Keccak padding, as Ethereum), freestanding. */
#ifndef OAO_KECCAK_H
#define OAO_KECCAK_H
#include <stdint.h>

void oao_keccak256(const uint8_t *data, uint32_t len, uint8_t out[32]);
/* keccak256(a ‖ b) of two 32-byte values. */
void oao_keccak_pair(const uint8_t a[32], const uint8_t b[32], uint8_t out[32]);

/* Streaming keccak256: begin; update with `blocks` whole 136-byte blocks; end with the rest. */
void oao_keccak_stream_begin(void);
void oao_keccak_stream_update(const uint8_t *data, uint32_t blocks);
void oao_keccak_stream_end(const uint8_t *data, uint32_t len, uint8_t out[32]);

#endif
