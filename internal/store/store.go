// Package store keeps the router's desired state durably on disk. It stores
// the validated inputs clients asked for, never rendered kernel objects, so a
// restarted service can converge the kernel to them. Every write is one bbolt
// transaction, fsynced before it returns.
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

var bucketNetworks = []byte("networks")

// Store is the durable desired state.
type Store struct {
	db *bolt.DB
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
		_, err := tx.CreateBucketIfNotExists(bucketNetworks)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Networks returns every stored network, ordered by VLAN id.
func (s *Store) Networks() ([]model.Network, error) {
	var out []model.Network
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNetworks).ForEach(func(k, v []byte) error {
			var n model.Network
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("decoding network %d: %w", binary.BigEndian.Uint16(k), err)
			}
			out = append(out, n)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading networks: %w", err)
	}
	return out, nil
}

// PutNetwork stores n, replacing any network with the same VLAN id.
func (s *Store) PutNetwork(n model.Network) error {
	v, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encoding network %d: %w", n.VLAN, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNetworks).Put(vlanKey(n.VLAN), v)
	})
	if err != nil {
		return fmt.Errorf("storing network %d: %w", n.VLAN, err)
	}
	return nil
}

// DeleteNetwork removes the network with the given VLAN id; removing an
// absent one is not an error.
func (s *Store) DeleteNetwork(vlan uint16) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNetworks).Delete(vlanKey(vlan))
	})
	if err != nil {
		return fmt.Errorf("deleting network %d: %w", vlan, err)
	}
	return nil
}

// vlanKey orders networks by VLAN id in bbolt's byte order.
func vlanKey(vlan uint16) []byte {
	return binary.BigEndian.AppendUint16(nil, vlan)
}
