// Package reconcile converges the kernel to the desired state. It is the only
// code that changes kernel objects; every operation can be repeated with the
// same result.
package reconcile

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/router-service/router-service/internal/link"
	"github.com/router-service/router-service/internal/model"
)

// Links is the kernel's link layer as the reconciler uses it; link.Manager
// implements it.
type Links interface {
	Uplink(name string) (model.Uplink, error)
	EnsureVLAN(v link.VLAN) (link.Status, error)
	DeleteVLAN(name string) error
	Status(name string) (link.Status, bool, error)
	Owned() ([]link.Status, error)
	// Isolate hardens an interface against cross-VLAN ARP and spoofing;
	// EnsureVLAN does so for the links it creates.
	Isolate(name string) error
}

// Health is the outcome of the most recent reconcile.
type Health struct {
	OK  bool
	Err string
	At  time.Time
}

// Reconciler converges links for networks on one parent interface.
type Reconciler struct {
	links  Links
	parent string
	log    *slog.Logger

	mu     sync.Mutex
	health Health
	// kick asks the resync loop for a full sync after a failure.
	kick chan struct{}
}

// New returns a reconciler for VLAN links on parent.
func New(links Links, parent string, log *slog.Logger) *Reconciler {
	return &Reconciler{links: links, parent: parent, log: log, health: Health{Err: "not reconciled yet"}, kick: make(chan struct{}, 1)}
}

// Parent is the name of the parent interface.
func (r *Reconciler) Parent() string { return r.parent }

// Uplink reads the parent interface's live state.
func (r *Reconciler) Uplink() (model.Uplink, error) { return r.links.Uplink(r.parent) }

// InterfaceName is the link name of the network on VLAN vlan.
func (r *Reconciler) InterfaceName(vlan uint16) string { return model.InterfaceName(r.parent, vlan) }

// EnsureNetwork converges the kernel objects of one network.
func (r *Reconciler) EnsureNetwork(n model.Network) (link.Status, error) {
	st, err := r.ensureNetwork(n)
	if err != nil {
		r.fail(err)
	}
	return st, err
}

func (r *Reconciler) ensureNetwork(n model.Network) (link.Status, error) {
	st, err := r.links.EnsureVLAN(link.VLAN{Parent: r.parent, ID: n.VLAN, MTU: n.MTU, Address: n.GatewayPrefix()})
	if err != nil {
		return link.Status{}, fmt.Errorf("converging VLAN %d link %s: %w", n.VLAN, r.InterfaceName(n.VLAN), err)
	}
	return st, nil
}

// RemoveNetwork removes the kernel objects of the network on VLAN vlan.
func (r *Reconciler) RemoveNetwork(vlan uint16) error {
	name := r.InterfaceName(vlan)
	if err := r.links.DeleteVLAN(name); err != nil {
		err = fmt.Errorf("removing VLAN %d link %s: %w", vlan, name, err)
		r.fail(err)
		return err
	}
	return nil
}

// Status reads the live state of the network's link.
func (r *Reconciler) Status(vlan uint16) (link.Status, bool, error) {
	return r.links.Status(r.InterfaceName(vlan))
}

// Sync converges the kernel to exactly the desired networks: it creates or
// repairs each of them, then deletes links tagged as ours that are not
// desired. Foreign links are never touched. Errors are joined so that one
// broken network does not stop the others from converging.
func (r *Reconciler) Sync(desired []model.Network) error {
	var errs []error
	if err := r.links.Isolate(r.parent); err != nil {
		errs = append(errs, fmt.Errorf("isolating parent %s: %w", r.parent, err))
	}
	want := make(map[string]bool, len(desired))
	for _, n := range desired {
		want[r.InterfaceName(n.VLAN)] = true
		if _, err := r.ensureNetwork(n); err != nil {
			errs = append(errs, err)
		}
	}
	owned, err := r.links.Owned()
	if err != nil {
		errs = append(errs, err)
	}
	for _, st := range owned {
		if want[st.Name] {
			continue
		}
		if err := r.links.DeleteVLAN(st.Name); err != nil {
			errs = append(errs, fmt.Errorf("removing undesired link %s: %w", st.Name, err))
		} else {
			r.log.Info("removed undesired link", "interface", st.Name)
		}
	}
	err = errors.Join(errs...)
	if err != nil {
		r.fail(err)
	} else {
		r.mu.Lock()
		r.health = Health{OK: true, At: time.Now()}
		r.mu.Unlock()
	}
	return err
}

func (r *Reconciler) fail(err error) {
	r.mu.Lock()
	r.health = Health{Err: err.Error(), At: time.Now()}
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Kicks delivers a value after each failure: pass it to Loop so that any
// failure is followed by a full resync.
func (r *Reconciler) Kicks() <-chan struct{} { return r.kick }

// Health reports the outcome of the most recent reconcile. A failed targeted
// change makes it unhealthy until the next full Sync succeeds.
func (r *Reconciler) Health() Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.health
}
