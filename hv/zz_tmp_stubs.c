/* TEMPORARY: weak stand-ins while the real modules are being written. Remove before commit. */
#include "arch/decode.h"
#include "hv/gwalk.h"
#include "hv/loader.h"
#include "hv/plan.h"
#include "hv/vuart.h"
#include "lib/ring.h"
#include "lib/error.h"
#define W __attribute__((weak))
W int decode_mmio_insn(const u8 *b, size_t n, enum cpu_mode_bits m, struct mmio_insn *o) { (void)b; (void)n; (void)m; (void)o; return BH_ENOTSUP; }
W u64 mmio_load_result(const struct mmio_insn *i, u64 o, u64 l, enum cpu_mode_bits m) { (void)i; (void)o; (void)m; return l; }
W int gwalk_read(const struct gwalk_ctx *g, u64 gva, void *buf, u64 len) { (void)g; (void)gva; (void)buf; (void)len; return BH_ENOTSUP; }
W enum guest_format loader_detect(const u8 *i, u64 s) { (void)i; (void)s; return GUEST_FORMAT_UNKNOWN; }
W const char *loader_format_name(enum guest_format f) { (void)f; return "?"; }
W int loader_load(struct guest_ram *r, const struct guest_blob *k, const char *c, const struct guest_blob *m, u32 n, struct guest_entry *e, char *w, size_t ws) { (void)r; (void)k; (void)c; (void)m; (void)n; (void)e; (void)w; (void)ws; return BH_ENOTSUP; }
W u32 plan_check(struct config *c, const struct plan_machine *m) { (void)m; return c->partition_count; }
W void vuart_init(struct vuart *u, void (*tx)(void *, u8), void (*irq)(void *, bool), void *ctx) { u->tx = tx; u->irq = irq; u->ctx = ctx; }
W void vuart_reset(struct vuart *u) { (void)u; }
W void vuart_write(struct vuart *u, u16 o, u8 v) { if (o == 0) u->tx(u->ctx, v); }
W u8 vuart_read(struct vuart *u, u16 o) { (void)u; return o == 5 ? 0x60 : 0; }
W void ring_init(struct ring *r, u8 *b, u64 s) { r->buf = b; r->size = s; r->written = 0; }
W void ring_write(struct ring *r, const void *d, u64 l) { (void)r; (void)d; (void)l; }
