/* Shared by the tests/files programs: errno names that read the same under
   musl and glibc (strerror texts differ). */
#include <errno.h>
static const char *en(int e) {
    switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EBUSY: return "EBUSY";
    case EFBIG: return "EFBIG";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    case ENOSYS: return "ENOSYS";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case ERANGE: return "ERANGE";
    case EOVERFLOW: return "EOVERFLOW";
    case ETXTBSY: return "ETXTBSY";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "E?";
    }
}
/* Runs a call and reports "r errno-name". */
#define TRY(label, call) do { errno = 0; long r_ = (long)(call); printf("%s: %ld %s\n", label, r_, r_ < 0 ? en(errno) : "OK"); } while (0)
