// zlib (Debian zlib1g-dev): gzip decompression of dataset files.
#include <zlib.h>
