package facematch

import (
	"encoding/binary"
	"hash/maphash"
)

// idTable maps subject IDs to subject references compactly: a gallery of a
// million subjects must not spend more on its ID map than on its templates.
//
// Every subject is one entry in an append-only byte arena,
//
//	[len(id) uint8][id bytes][first row uint32, little endian]
//
// and its reference (ref) is the entry's position: arena chunk index << 16 |
// offset. Rows name their subject by ref. An open-addressing hash table with
// linear probing (slots) maps an ID to ref+1 (0 marks an empty slot);
// deletion shifts the following cluster back, so there are no tombstones.
// Entries of removed subjects stay in the arena as dead bytes until
// compaction copies the live ones into a fresh arena.
//
// idTable does no locking: Gallery mutates it only while holding its write
// lock, after preparing any allocation (a new arena chunk, a larger slot
// table, a compacted arena) beforehand.
type idTable struct {
	arena [][]byte // chunks of capacity arenaChunk
	slots []uint32 // len is a power of two
	n     int      // subjects
	live  int      // arena bytes of live entries
	dead  int      // arena bytes of removed entries
	seed  maphash.Seed
}

const (
	arenaBits  = 16
	arenaChunk = 1 << arenaBits
	// maxIDLen is the longest subject ID, in bytes.
	maxIDLen = 255
	// minSlots is the size of the first slot table.
	minSlots = 16
)

func newIDTable() idTable {
	return idTable{slots: make([]uint32, minSlots), seed: maphash.MakeSeed()}
}

func entrySize(id string) int { return 1 + len(id) + 4 }

func (t *idTable) entry(ref uint32) []byte {
	c := t.arena[ref>>arenaBits]
	off := ref & (arenaChunk - 1)
	n := uint32(c[off])
	return c[off : off+1+n+4]
}

// id returns the ID bytes of the subject at ref (a view into the arena).
func (t *idTable) id(ref uint32) []byte {
	e := t.entry(ref)
	return e[1 : len(e)-4]
}

// head returns the subject's first row.
func (t *idTable) head(ref uint32) uint32 {
	e := t.entry(ref)
	return binary.LittleEndian.Uint32(e[len(e)-4:])
}

func (t *idTable) setHead(ref, row uint32) {
	e := t.entry(ref)
	binary.LittleEndian.PutUint32(e[len(e)-4:], row)
}

func (t *idTable) hash(id string) uint64 { return maphash.String(t.seed, id) }

// find returns the subject's reference and the slot that holds it.
func (t *idTable) find(id string) (ref uint32, slot int, ok bool) {
	mask := len(t.slots) - 1
	for i := int(t.hash(id)) & mask; ; i = (i + 1) & mask {
		v := t.slots[i]
		if v == 0 {
			return 0, i, false
		}
		if string(t.id(v-1)) == id {
			return v - 1, i, true
		}
	}
}

// needSlots reports whether adding one subject requires a larger slot
// table (the load stays at or under 3/4).
func (t *idTable) needSlots() bool { return (t.n+1)*4 > len(t.slots)*3 }

// grownSlots returns a slot table of twice the size holding every current
// subject. It only reads t, so it runs outside the gallery's write lock.
func (t *idTable) grownSlots() []uint32 {
	s := make([]uint32, 2*len(t.slots))
	t.rehashInto(s, t.slots)
	return s
}

func (t *idTable) rehashInto(dst, src []uint32) {
	mask := len(dst) - 1
	for _, v := range src {
		if v == 0 {
			continue
		}
		i := int(t.hash(string(t.id(v-1)))) & mask
		for dst[i] != 0 {
			i = (i + 1) & mask
		}
		dst[i] = v
	}
}

// needChunk reports whether the entry of id does not fit in the last arena chunk.
func (t *idTable) needChunk(id string) bool {
	if len(t.arena) == 0 {
		return true
	}
	c := t.arena[len(t.arena)-1]
	return cap(c)-len(c) < entrySize(id)
}

// insert adds a subject whose ID is not in the table, with first row head.
// The caller has installed a new arena chunk and slot table if needChunk or
// needSlots said so.
func (t *idTable) insert(id string, head uint32) uint32 {
	c := &t.arena[len(t.arena)-1]
	ref := uint32(len(t.arena)-1)<<arenaBits | uint32(len(*c))
	*c = append(*c, byte(len(id)))
	*c = append(*c, id...)
	*c = binary.LittleEndian.AppendUint32(*c, head)
	_, slot, _ := t.find(id)
	t.slots[slot] = ref + 1
	t.n++
	t.live += entrySize(id)
	return ref
}

// remove deletes the subject in slot, shifting back the rest of its cluster.
func (t *idTable) remove(slot int) {
	ref := t.slots[slot] - 1
	size := len(t.entry(ref))
	mask := len(t.slots) - 1
	i := slot
	for j := (i + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		home := int(t.hash(string(t.id(t.slots[j]-1)))) & mask
		// Move slot j back to i unless its home lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = 0
	t.n--
	t.live -= size
	t.dead += size
}

// needCompact reports whether dead entries take more room than live ones
// (and more than one arena chunk), so that compaction pays for itself.
func (t *idTable) needCompact() bool { return t.dead > arenaChunk && t.dead > t.live }

// compacted returns a fresh arena and slot table holding only the live
// entries, and the mapping from old to new references. It only reads t.
func (t *idTable) compacted() (arena [][]byte, slots []uint32, moved map[uint32]uint32) {
	slots = make([]uint32, len(t.slots))
	moved = make(map[uint32]uint32, t.n)
	for i, v := range t.slots {
		if v == 0 {
			continue
		}
		e := t.entry(v - 1)
		if len(arena) == 0 || cap(arena[len(arena)-1])-len(arena[len(arena)-1]) < len(e) {
			arena = append(arena, make([]byte, 0, arenaChunk))
		}
		c := &arena[len(arena)-1]
		ref := uint32(len(arena)-1)<<arenaBits | uint32(len(*c))
		*c = append(*c, e...)
		slots[i] = ref + 1 // the same slot: the IDs and their hashes are unchanged
		moved[v-1] = ref
	}
	return arena, slots, moved
}
