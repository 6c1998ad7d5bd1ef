// Package model holds the desired-state types of the router and their
// validation. It is pure: nothing here touches the kernel or the disk.
package model

import "fmt"

// Kind classifies an error so that the API edge can map it to a status code
// without parsing messages.
type Kind int

const (
	// KindInvalid: the request itself is malformed or out of range.
	KindInvalid Kind = iota + 1
	// KindConflict: the request collides with another existing object.
	KindConflict
	// KindNotFound: the request refers to an object that does not exist.
	KindNotFound
	// KindPrecondition: the system is not in a state that allows the request.
	KindPrecondition
)

// Error is an error a user can act on, classified by Kind.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func newError(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Invalid reports a malformed or out-of-range request.
func Invalid(format string, args ...any) error { return newError(KindInvalid, format, args...) }

// Conflict reports a collision with an existing object.
func Conflict(format string, args ...any) error { return newError(KindConflict, format, args...) }

// NotFound reports a reference to an absent object.
func NotFound(format string, args ...any) error { return newError(KindNotFound, format, args...) }

// Precondition reports that the system's state does not allow the request.
func Precondition(format string, args ...any) error {
	return newError(KindPrecondition, format, args...)
}
