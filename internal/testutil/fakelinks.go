// Package testutil has helpers for tests: an in-memory link layer and
// throwaway network namespaces.
package testutil

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"

	"github.com/router-service/router-service/internal/link"
	"github.com/router-service/router-service/internal/model"
)

// FakeLinks is an in-memory stand-in for link.Manager: links are created and
// deleted in a map, with the same ownership rules as the kernel code.
type FakeLinks struct {
	mu     sync.Mutex
	up     model.Uplink
	links  map[string]link.Status
	nextIx int
	// FailEnsure, when set, makes EnsureVLAN fail for that VLAN id.
	FailEnsure map[uint16]error
}

// NewFakeLinks returns a fake with the given uplink and no VLAN links.
func NewFakeLinks(up model.Uplink) *FakeLinks {
	return &FakeLinks{up: up, links: map[string]link.Status{}, nextIx: 10, FailEnsure: map[uint16]error{}}
}

func (f *FakeLinks) Uplink(name string) (model.Uplink, error) {
	if name != "" && name != f.up.Name {
		return model.Uplink{}, fmt.Errorf("parent interface %s: link not found", name)
	}
	return f.up, nil
}

func (f *FakeLinks) EnsureVLAN(v link.VLAN) (link.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.FailEnsure[v.ID]; err != nil {
		return link.Status{}, err
	}
	name := model.InterfaceName(v.Parent, v.ID)
	st, ok := f.links[name]
	if ok && !st.Owned {
		return link.Status{}, model.Precondition("interface %s exists and is not managed by router-service", name)
	}
	if !ok || st.VLANID != v.ID {
		f.nextIx++
		st = link.Status{Name: name, Index: f.nextIx, VLANID: v.ID, MAC: fmt.Sprintf("02:00:00:00:%02x:%02x", v.ID>>8, v.ID&0xff), Owned: true}
	}
	st.MTU = v.MTU
	if st.MTU == 0 {
		st.MTU = f.up.MTU
	}
	st.Up = true
	st.Addrs = []netip.Prefix{v.Address}
	f.links[name] = st
	return st, nil
}

func (f *FakeLinks) DeleteVLAN(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.links[name]
	if !ok {
		return nil
	}
	if !st.Owned {
		return model.Precondition("interface %s is not managed by router-service", name)
	}
	delete(f.links, name)
	return nil
}

func (f *FakeLinks) Status(name string) (link.Status, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.links[name]
	return st, ok, nil
}

func (f *FakeLinks) Owned() ([]link.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []link.Status
	for _, name := range slices.Sorted(maps.Keys(f.links)) {
		if f.links[name].Owned {
			out = append(out, f.links[name])
		}
	}
	return out, nil
}

func (f *FakeLinks) Isolate(string) error { return nil }

// Put installs a link directly, as drift or a foreign link would appear.
func (f *FakeLinks) Put(st link.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links[st.Name] = st
}

// Names lists the links present, sorted.
func (f *FakeLinks) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.links))
}
