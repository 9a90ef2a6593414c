package layer

// The members of small files are carved one after the other from one
// buffer per batch, their arena, instead of a buffer each: a push of many
// small files made as many buffers as files, a little larger than each,
// and the collector ran all through it to reclaim them. The arena goes
// with the batch and comes back to the pool once the ordered writer has
// written the batch (a streamed member may still be read until then).

// sharedMemberMax is the largest room asked for a member that is carved
// from the arena; a larger one gets a buffer of its own.
const sharedMemberMax = 64 << 10

// arenaSize holds a batch of small members: a batch is sent once it holds
// batchTarget bytes, checked before each file, so it ends within a
// member's room of that. It is a size the pool keeps.
const arenaSize = batchTarget + 4*sharedMemberMax

// newMember starts a member with room for capacity bytes. Only one member
// is filled at a time: the walker seals it before it starts the next.
func (w *walker) newMember(capacity int) *member {
	if capacity <= sharedMemberMax {
		if w.arena == nil {
			w.arena = w.buffers.get(arenaSize)
		}
		if cap(w.arena)-len(w.arena) >= capacity {
			// Empty, with the rest of the arena as its room, so that the
			// tar writer and the file's read append in place.
			return &member{data: w.arena[len(w.arena):], shared: true}
		}
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

// claim keeps the bytes of m, which seal ends, in the arena.
func (w *walker) claim(m *member) {
	if m.shared {
		w.arena = w.arena[:len(w.arena)+len(m.data)]
	}
}

// release gives back the buffer of a member that is done with, unless it
// is its batch's arena's.
func (p *bufferPool) release(m *member) {
	if !m.shared {
		p.put(m.data)
	}
	m.data = nil
}
