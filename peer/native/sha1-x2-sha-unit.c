/*
 * sha1-x2.c for CPUs whose SHA unit has room for every stream's message schedule (sha1_x1_sha_unit,
 * sha1_x2_sha_unit, sha1_x4_sha_unit): sha1msg2 for all streams, where the base build computes every other
 * stream's on the vector units. Measured faster on AMD Zen 4; ../verify/sha1-native.ts runs whichever build
 * hashes fastest on the CPU it finds. gen-code.sh builds it as any other file of the folder:
 *   sh peer/native/gen-code.sh sha1-x2-sha-unit sha1_x1_sha_unit sha1_x2_sha_unit sha1_x4_sha_unit
 */
#define SHA1_SHA_UNIT
#include "sha1-x2.c"
