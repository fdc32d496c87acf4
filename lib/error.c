#include "lib/error.h"

const char *bh_strerror(int err)
{
	switch (err) {
	case BH_OK: return "ok";
	case BH_EINVAL: return "invalid input";
	case BH_ENOMEM: return "out of memory";
	case BH_ENOENT: return "not found";
	case BH_ERANGE: return "out of range";
	case BH_ECHECKSUM: return "bad checksum";
	case BH_EBUSY: return "already in use";
	case BH_ETIMEDOUT: return "timed out";
	case BH_ENOTSUP: return "not supported";
	default: return "unknown error";
	}
}
