// Package seal holds FaceGate's key hierarchy below the store's secret and
// the byte layout of sealed values. Only package store (and compound, which
// derives a compound's shared transform secret) use it; the secret a gate
// maker supplies is store.Secret.
//
// The hierarchy has three levels:
//
//   - A key-encryption key (KEK) unlocks a store. Package store derives it
//     from a store.Secret: a passphrase through Argon2id, a raw key through
//     [DeriveKey] under the store's salt.
//   - Data keys: one random [Key] per (subject, class), stored only wrapped by
//     the KEK ([Key.Wrap]). Destroying a wrapped data key crypto-shreds every
//     record sealed under it.
//   - Records are sealed with XChaCha20-Poly1305 ([Key.Seal]) under a data key,
//     with associated data ([AD]) that binds the store id, the subject id, the
//     class, the record name, the kind of object and the format version, so a
//     record copied to another subject, class, name or store fails to open.
//
// Sealed and wrapped values have one byte layout:
//
//	offset  size  field
//	0       1     format version (1)
//	1       24    XChaCha20 nonce (random)
//	25      n+16  ciphertext and Poly1305 tag
//
// A wrapped key is a sealed 32-byte key, so it is exactly [WrappedSize] bytes.
//
// Keys are kept in fixed arrays that [Key.Wipe] overwrites with zeros; Go may
// still have copied them (the garbage collector does not move heap objects
// today, but the stack may be copied), so wiping is a best effort, not a
// guarantee. Keys are compared in constant time ([Key.Equal], [Equal]).
package seal
