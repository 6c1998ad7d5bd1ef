// Package store keeps the router's desired state durably on disk. It stores
// the validated inputs clients asked for, never rendered kernel objects, so a
// restarted service can converge the kernel to them. Each change is one bbolt
// transaction, fsynced before it returns, touching only the keys it changes.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/router-service/router-service/internal/model"
)

// FileName is the database file inside the state directory.
const FileName = "state.db"

var (
	bucketNetworks = []byte("networks")
	bucketPorts    = []byte("ports")
	bucketMeta     = []byte("meta")
	keyParent      = []byte("parent")
)

// Store is the durable desired state.
type Store struct {
	db *bolt.DB
}

// State is everything the store holds.
type State struct {
	Networks []model.Network
	Ports    []model.PortMapping
}

// Open opens (creating if needed) the store in dir. Only one process may
// hold it: a second service on the same state directory fails fast instead
// of silently fighting over the kernel.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating state directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("opening %s: another router-service holds it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketNetworks, bucketPorts, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Load reads the whole desired state; networks come ordered by VLAN id.
func (s *Store) Load() (State, error) {
	var st State
	err := s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketNetworks).ForEach(func(k, v []byte) error {
			var n model.Network
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("decoding network %d: %w", binary.BigEndian.Uint16(k), err)
			}
			st.Networks = append(st.Networks, n)
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketPorts).ForEach(func(k, v []byte) error {
			var m model.PortMapping
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("decoding port mapping %s: %w", k, err)
			}
			st.Ports = append(st.Ports, m)
			return nil
		})
	})
	if err != nil {
		return State{}, fmt.Errorf("reading desired state: %w", err)
	}
	return st, nil
}

// Parent returns the parent interface the stored networks were built on, or
// "" if none was recorded.
func (s *Store) Parent() (string, error) {
	var name string
	err := s.db.View(func(tx *bolt.Tx) error {
		name = string(tx.Bucket(bucketMeta).Get(keyParent))
		return nil
	})
	return name, err
}

// SetParent records the parent interface the networks are built on.
func (s *Store) SetParent(name string) error {
	return s.Update(func(tx *Tx) error { return tx.tx.Bucket(bucketMeta).Put(keyParent, []byte(name)) })
}

// Tx is one atomic change of the desired state.
type Tx struct {
	tx *bolt.Tx
}

// Update applies fn's changes in one durable transaction: all or nothing.
func (s *Store) Update(fn func(*Tx) error) error {
	if err := s.db.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx}) }); err != nil {
		return fmt.Errorf("storing desired state: %w", err)
	}
	return nil
}

// PutNetwork stores n, replacing any network with the same VLAN id.
func (t *Tx) PutNetwork(n model.Network) error {
	v, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encoding network %d: %w", n.VLAN, err)
	}
	return t.tx.Bucket(bucketNetworks).Put(vlanKey(n.VLAN), v)
}

// DeleteNetwork removes the network with the given VLAN id, if present.
func (t *Tx) DeleteNetwork(vlan uint16) error {
	return t.tx.Bucket(bucketNetworks).Delete(vlanKey(vlan))
}

// PutPort stores m, replacing any mapping with the same key.
func (t *Tx) PutPort(m model.PortMapping) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding port mapping %s: %w", m.PortKey, err)
	}
	return t.tx.Bucket(bucketPorts).Put([]byte(m.PortKey.String()), v)
}

// DeletePort removes the mapping with key k, if present.
func (t *Tx) DeletePort(k model.PortKey) error {
	return t.tx.Bucket(bucketPorts).Delete([]byte(k.String()))
}

// vlanKey orders networks by VLAN id in bbolt's byte order.
func vlanKey(vlan uint16) []byte {
	return binary.BigEndian.AppendUint16(nil, vlan)
}
