package generic_test

import (
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/generic"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
)

// TestRecorded sends the requests recorded in fixtures/carriers/generic
// through the bare adapter and compares what comes of each with the
// outcome recorded beside it. Walks through the whole gateway, and the
// cases built in code, are package gateway's tests.
func TestRecorded(t *testing.T) {
	wiretest.USSD(t, generic.USSD{}, wiretest.Screen).Replay(t, "generic", nil)
}
