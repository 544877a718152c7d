#include "restore/convert.h"
