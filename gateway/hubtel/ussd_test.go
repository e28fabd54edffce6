package hubtel_test

import (
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/hubtel"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
)

// TestRecorded sends the callbacks recorded in fixtures/carriers/hubtel
// through the bare adapter and compares what comes of each with the
// outcome recorded beside it. Walks through the whole gateway, and the
// cases built in code, are package gateway's tests.
func TestRecorded(t *testing.T) {
	wiretest.USSD(t, hubtel.USSD{}, wiretest.Screen).Replay(t, "hubtel", nil)
}
