package reconcile

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLoopSyncsOnKickAndRetriesFailures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	kick := make(chan struct{})
	calls := make(chan int, 10)
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		// An hour-long interval: every sync below comes from the kick or
		// from the retry after a failure, never from the timer.
		Loop(ctx, time.Hour, kick, func() error {
			n++
			calls <- n
			if n == 1 {
				return errors.New("first sync fails")
			}
			return nil
		})
	}()
	kick <- struct{}{}
	for want := 1; want <= 2; want++ {
		select {
		case got := <-calls:
			if got != want {
				t.Fatalf("sync #%d, want #%d", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("sync #%d never came", want)
		}
	}
	cancel()
	<-done
	if len(calls) != 0 {
		t.Fatalf("a successful sync was retried: %d more calls", len(calls))
	}
}

func TestFailureKicksTheLoop(t *testing.T) {
	r := New(nil, "eth0", nil)
	r.fail(errors.New("netlink said no"))
	r.fail(errors.New("and again"))
	select {
	case <-r.Kicks():
	default:
		t.Fatal("a failure did not kick the loop")
	}
	if h := r.Health(); h.OK || h.Err != "and again" {
		t.Fatalf("health %+v", h)
	}
}

func TestBackoffStaysBoundedAfterManyFailures(t *testing.T) {
	b := 500 * time.Millisecond
	for i := range 200 {
		b = nextBackoff(b, 30*time.Second)
		if b <= 0 || b > 30*time.Second {
			t.Fatalf("after %d failures the backoff is %v", i+1, b)
		}
	}
	if b != 30*time.Second {
		t.Fatalf("backoff settles at %v, want the interval", b)
	}
}
