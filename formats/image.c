#include "formats/image.h"
