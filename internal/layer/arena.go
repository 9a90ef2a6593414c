package layer

// The members of small files are carved one after the other from a few
// buffers per batch, its arenas, instead of a buffer each: a push of many
// small files made as many buffers as files, a little larger than each,
// and the collector ran all through it to reclaim them. The arenas go with
// the batch and come back to their pool once the ordered writer has
// written the batch (a streamed member may still be read until then).

// sharedMemberMax is the largest room asked for a member that is carved
// from an arena; a larger one gets a buffer of its own.
const sharedMemberMax = 64 << 10

// arenaSize is the size of an arena, one a pool keeps: a batch of small
// files takes a few, and a batch of chunks and a few small files does not
// hold a batch's worth of room for them until it is written.
const arenaSize = bufferRounding

// newMember starts a member with room for capacity bytes. Only one member
// is filled at a time: the walker seals it before it starts the next.
func (w *walker) newMember(capacity int) *member {
	if capacity <= sharedMemberMax {
		if w.arena == nil || cap(w.arena)-len(w.arena) < capacity {
			w.arena = w.arenas.get(arenaSize)
			w.batchArenas = append(w.batchArenas, w.arena)
		}
		// Empty, with the rest of the arena as its room, so that the tar
		// writer and the file's read append in place.
		return &member{data: w.arena[len(w.arena):], shared: true}
	}
	return &member{data: w.buffers.get(capacity)}
}

// growMember gives m room for n more bytes. A member that outgrows the
// arena moves to a buffer of its own; the arena's bytes it leaves go to
// the next member.
func (w *walker) growMember(m *member, n int) {
	if cap(m.data)-len(m.data) >= n {
		return
	}
	if !m.shared {
		m.data = w.buffers.grow(m.data, n)
		return
	}
	m.data = append(w.buffers.get(max(2*len(m.data), len(m.data)+n, sharedMemberMax)), m.data...)
	m.shared = false
}

// claim keeps the bytes of m, which seal ends, in the last arena, where
// it was carved.
func (w *walker) claim(m *member) {
	if m.shared {
		w.arena = w.arena[:len(w.arena)+len(m.data)]
	}
}

// release gives back the buffer of a member that is done with, unless it
// is in one of its batch's arenas.
func (p *bufferPool) release(m *member) {
	if !m.shared {
		p.put(m.data)
	}
	m.data = nil
}
