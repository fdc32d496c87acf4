/* Error codes used across the tree. Functions return 0 or a negative BH_E* value; the
 * human-readable context travels separately (a message buffer filled by the callee). */
#ifndef BH_LIB_ERROR_H
#define BH_LIB_ERROR_H

enum bh_error {
	BH_OK = 0,
	BH_EINVAL = -1,    /* malformed input */
	BH_ENOMEM = -2,    /* out of memory or table space */
	BH_ENOENT = -3,    /* not found */
	BH_ERANGE = -4,    /* value or address out of range */
	BH_ECHECKSUM = -5, /* checksum mismatch */
	BH_EBUSY = -6,     /* resource already taken */
	BH_ETIMEDOUT = -7, /* no answer within the bound */
	BH_ENOTSUP = -8,   /* hardware or feature not supported */
};

const char *bh_strerror(int err);

#endif
