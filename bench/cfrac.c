/* cfrac.c -- "cfrac-like": many tiny, short-lived objects.
 *
 * The classic cfrac program factors integers with the continued-fraction method on a
 * home-grown bignum library in which every arithmetic operation returns a freshly
 * allocated number and the operands die soon after.  This workload reproduces that
 * allocation pattern with its own small bignum code: a handful of long-lived state
 * numbers, and for each step several temporaries of 1..L 32-bit limbs (8-72 bytes)
 * that are freed within a few operations.
 *
 *   -n steps (default 15M)   -s max limbs (default 16)
 */
#include "bench-common.h"

typedef struct bn_s {
  uint32_t n;           /* limbs in use */
  uint32_t limb[];      /* little endian */
} bn_t;

static bn_t* bn_alloc(uint32_t n) {
  bn_t* b = (bn_t*)bench_xmalloc(sizeof(bn_t) + sizeof(uint32_t) * n);
  b->n = n;
  return b;
}

static bn_t* bn_from(uint64_t v) {
  bn_t* b = bn_alloc(2);
  b->limb[0] = (uint32_t)v;
  b->limb[1] = (uint32_t)(v >> 32);
  if (b->limb[1] == 0) b->n = 1;
  return b;
}

/* a + b, truncated to `cap` limbs */
static bn_t* bn_add(const bn_t* a, const bn_t* b, uint32_t cap) {
  uint32_t n = (a->n > b->n ? a->n : b->n) + 1;
  if (n > cap) n = cap;
  bn_t* r = bn_alloc(n);
  uint64_t carry = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t s = carry;
    if (i < a->n) s += a->limb[i];
    if (i < b->n) s += b->limb[i];
    r->limb[i] = (uint32_t)s;
    carry = s >> 32;
  }
  while (r->n > 1 && r->limb[r->n - 1] == 0) r->n--;
  return r;
}

/* a * b, truncated to `cap` limbs (arithmetic mod 2^(32*cap)) */
static bn_t* bn_mul(const bn_t* a, const bn_t* b, uint32_t cap) {
  uint32_t n = a->n + b->n;
  if (n > cap) n = cap;
  bn_t* r = bn_alloc(n);
  memset(r->limb, 0, sizeof(uint32_t) * n);
  for (uint32_t i = 0; i < a->n && i < n; i++) {
    uint64_t carry = 0;
    for (uint32_t j = 0; j < b->n && i + j < n; j++) {
      uint64_t t = (uint64_t)a->limb[i] * b->limb[j] + r->limb[i + j] + carry;
      r->limb[i + j] = (uint32_t)t;
      carry = t >> 32;
    }
    if (i + b->n < n) r->limb[i + b->n] = (uint32_t)carry;
  }
  while (r->n > 1 && r->limb[r->n - 1] == 0) r->n--;
  return r;
}

/* a shifted right by `bits` (< 32) -- a "division" that shrinks numbers again */
static bn_t* bn_shr(const bn_t* a, unsigned bits) {
  bn_t* r = bn_alloc(a->n);
  for (uint32_t i = 0; i < a->n; i++) {
    uint64_t w = a->limb[i];
    if (i + 1 < a->n) w |= (uint64_t)a->limb[i + 1] << 32;
    r->limb[i] = (uint32_t)(w >> bits);
  }
  while (r->n > 1 && r->limb[r->n - 1] == 0) r->n--;
  return r;
}

static uint64_t bn_hash(const bn_t* a) {
  uint64_t h = a->n;
  for (uint32_t i = 0; i < a->n; i++) h = bench_mix(h, a->limb[i]);
  return h;
}

#define STATE 8

int main(int argc, char** argv) {
  bench_args_t a;
  bench_parse(argc, argv, "cfrac-like: tiny short-lived bignum temporaries (-n steps, -s max limbs)",
              (bench_args_t){1, 15000000, 16, false}, (bench_args_t){1, 1500000, 16, false}, &a);
  uint32_t cap = (uint32_t)(a.size < 2 ? 2 : a.size);
  bench_rng_t rng;
  bench_rng_seed(&rng, 42);
  bn_t* st[STATE];
  for (int i = 0; i < STATE; i++) st[i] = bn_from(bench_rand(&rng) | 1);

  uint64_t check = 0;
  double t0 = bench_now();
  for (long step = 0; step < a.iters; step++) {
    unsigned i = (unsigned)bench_below(&rng, STATE);
    unsigned j = (unsigned)bench_below(&rng, STATE);
    unsigned k = (unsigned)bench_below(&rng, STATE);
    /* the varying cap makes the temporaries' sizes spread over 1..cap limbs */
    uint32_t c = 1 + (uint32_t)bench_below(&rng, cap);
    bn_t* t = bn_mul(st[i], st[j], c);           /* temporary        */
    bn_t* u = bn_add(t, st[k], cap);             /* temporary        */
    free(t);
    bn_t* one = bn_from(step + 1);               /* tiny constant    */
    bn_t* v = bn_add(u, one, cap);
    free(one);
    free(u);
    bn_t* w = bn_shr(v, (unsigned)(step & 7) + 1); /* keeps values from saturating */
    free(v);
    free(st[k]);
    st[k] = w;                                   /* survives a while */
    if ((step & 1023) == 0) check = bench_mix(check, bn_hash(w));
  }
  double t1 = bench_now();
  for (int i = 0; i < STATE; i++) { check = bench_mix(check, bn_hash(st[i])); free(st[i]); }
  bench_report("cfrac", &a, t1 - t0, (double)a.iters * 4, check);
  return 0;
}
