package pull

import (
	"context"
	"testing"
)

// A piece bigger than the whole budget takes all of it: it runs alone,
// and work still makes progress.
func TestBudgetOversizedPieceRunsAlone(t *testing.T) {
	ctx := context.Background()
	b := NewBudget(10)
	if err := b.Acquire(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if b.TryAcquire(1) {
		t.Fatal("a byte fit beside a piece bigger than the budget")
	}
	b.Release(100)
	if !b.TryAcquire(4) || !b.TryAcquire(6) {
		t.Fatal("the budget did not come back whole")
	}
	if b.TryAcquire(1) {
		t.Fatal("the budget held more than its limit")
	}
}
