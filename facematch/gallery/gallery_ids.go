package gallery

import (
	"encoding/binary"
	"hash/maphash"
)

// idTable maps subject IDs to subject references compactly: a gallery of a
// million subjects must not spend more on its ID map than on its templates.
//
// Every subject is one entry in an append-only byte arena,
//
//	[len(id) uint8][id bytes][k uint8][k rows, uint32 little endian]
//
// listing the rows of its k templates, and its reference (ref) is the
// entry's position: arena chunk index << 16 | offset. Rows name their
// subject by ref. A subject with one template costs 6 + len(id) bytes here.
// Adding a template to a subject writes a new, longer entry and leaves the
// old one dead; moving a row (swap-remove) rewrites its number in place. An open-addressing hash table with
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
	// maxTemplates is the most templates one subject may have.
	maxTemplates = 255
	// minSlots is the size of the first slot table.
	minSlots = 16
)

func newIDTable() idTable {
	return idTable{slots: make([]uint32, minSlots), seed: maphash.MakeSeed()}
}

func entrySize(id string, k int) int { return 1 + len(id) + 1 + 4*k }

func (t *idTable) entry(ref uint32) []byte {
	c := t.arena[ref>>arenaBits]
	off := ref & (arenaChunk - 1)
	n := uint32(c[off])
	k := uint32(c[off+1+n])
	return c[off : off+1+n+1+4*k]
}

// id returns the ID bytes of the subject at ref (a view into the arena).
func (t *idTable) id(ref uint32) []byte {
	e := t.entry(ref)
	return e[1 : 1+e[0]]
}

// rows returns the rows list of the subject at ref: k little-endian
// uint32s (a view into the arena).
func (t *idTable) rows(ref uint32) []byte {
	e := t.entry(ref)
	return e[1+int(e[0])+1:]
}

// replaceRow rewrites row from as row to in the subject's list.
func (t *idTable) replaceRow(ref, from, to uint32) {
	rs := t.rows(ref)
	for i := 0; i < len(rs); i += 4 {
		if binary.LittleEndian.Uint32(rs[i:]) == from {
			binary.LittleEndian.PutUint32(rs[i:], to)
			return
		}
	}
	panic("facematch: gallery row missing from its subject's list")
}

func (t *idTable) hash(id string) uint64 { return maphash.String(t.seed, id) }

// find returns the subject's reference and the slot that holds it, or the
// empty slot where it would go.
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
// table. The load stays at or under 4/5: linear probing then needs about 3
// probes to find a subject and 13 to find an empty slot, while the table
// costs 5 to 10 bytes per subject.
func (t *idTable) needSlots() bool { return (t.n+1)*5 > len(t.slots)*4 }

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

// needChunk reports whether an entry of size bytes does not fit in the last
// arena chunk.
func (t *idTable) needChunk(size int) bool {
	if len(t.arena) == 0 {
		return true
	}
	c := t.arena[len(t.arena)-1]
	return cap(c)-len(c) < size
}

// put appends the entry of subject id with rows rs (the rows list in its
// arena form) followed by row extra, and points the hash table at it: in
// the empty slot found for a new subject, or in the subject's own slot,
// whose old entry becomes dead. The caller has installed a new arena chunk
// and slot table if needChunk or needSlots said so.
func (t *idTable) put(id string, slot int, known bool, rs []byte, extra uint32) uint32 {
	c := &t.arena[len(t.arena)-1]
	ref := uint32(len(t.arena)-1)<<arenaBits | uint32(len(*c))
	k := len(rs)/4 + 1
	*c = append(*c, byte(len(id)))
	*c = append(*c, id...)
	*c = append(*c, byte(k))
	*c = append(*c, rs...)
	*c = binary.LittleEndian.AppendUint32(*c, extra)
	if known {
		old := len(t.entry(t.slots[slot] - 1))
		t.live -= old
		t.dead += old
	} else {
		t.n++
	}
	t.slots[slot] = ref + 1
	t.live += entrySize(id, k)
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
