package cmpp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// submitResults maps SUBMIT_RESP results to whether a retry may help:
// flow control (8) and a sequence clash (3) pass; the rest are mistakes
// in the message or the account that sending again repeats.
var submitResults = map[uint32]struct {
	retry bool
	why   string
}{
	1:  {false, "bad message structure"},
	2:  {false, "bad command"},
	3:  {true, "sequence number repeated"},
	4:  {false, "bad message length"},
	5:  {false, "bad fee code"},
	6:  {false, "message too long"},
	7:  {false, "bad service id: check BAREFOOT_CMPP_SERVICE_ID"},
	8:  {true, "flow control"},
	9:  {false, "fee terminal not served by this gateway"},
	10: {false, "bad Src_Id: check BAREFOOT_CMPP_SRC_ID"},
	11: {false, "bad Msg_src: check BAREFOOT_CMPP_SP_ID"},
	12: {false, "bad fee terminal"},
	13: {false, "bad destination terminal"},
}

// submitError classifies a refused SUBMIT. A result the protocol does not
// name (ISMGs add their own) is retried: the sender's attempts bound it.
func submitError(result uint32) *sender.Error {
	r, ok := submitResults[result]
	if !ok {
		return sender.Retryf("cmpp: SUBMIT refused: result %d", result)
	}
	return &sender.Error{Retry: r.retry, Reason: fmt.Sprintf("cmpp: SUBMIT refused: result %d: %s", result, r.why)}
}

// Send submits m, in as many parts as its text needs, each asking for a
// status report, and returns the Msg_Id the ISMG gave its first part, which
// the status report of that part carries back.
//
// Only the process holding the connection can send. Any other returns at
// once an error marking the message as another process's to send, and
// the outbox puts it back for a couple of seconds without counting the
// attempt: with several processes sharing an outbox, a CMPP message
// reaches the holder after a few claims, late by seconds, never failed
// for it.
//
// When the connection drops with parts submitted, a part the ISMG accepted
// (its SUBMIT_RESP arrived) is remembered and not submitted again when the
// message is retried; a part whose response never arrived may or may not
// have reached the ISMG, and is submitted again: at least once, never
// silently lost.
func (c *Client) Send(ctx context.Context, m sms.Message) (string, error) {
	dest, err := destTerminal(m.Phone)
	if err != nil {
		return "", err
	}
	msgFmt, contents, err := EncodeText(m.Body, byte(m.ID))
	if err != nil {
		return "", sender.Finalf("%s", err.Error())
	}
	cn := c.current()
	if cn == nil {
		return "", errNotHeld
	}
	ids := c.accepted(m, len(contents))
	type outcome struct {
		i    int
		resp *SubmitResp
		err  error
	}
	results := make(chan outcome, len(contents))
	waiting := 0
	for i, content := range contents {
		if ids[i] != "" {
			continue
		}
		waiting++
		p := &Submit{
			PkTotal: byte(len(contents)), PkNumber: byte(i + 1), RegisteredDelivery: 1, MsgLevel: 1,
			ServiceID: c.cfg.ServiceID, FeeUserType: 2, FeeType: "01", FeeCode: "000000",
			MsgFmt: msgFmt, MsgSrc: c.cfg.SPID, SrcID: c.cfg.SrcID, DestTerminalIDs: []string{dest}, Content: content,
		}
		if len(contents) > 1 {
			p.TPUdhi = 1
		}
		go func() {
			resp, err := cn.request(ctx, p)
			if err != nil {
				results <- outcome{i: i, err: err}
				return
			}
			sr, ok := resp.(*SubmitResp)
			if !ok {
				results <- outcome{i: i, err: errors.New("answered with something other than SUBMIT_RESP")}
				return
			}
			results <- outcome{i: i, resp: sr}
		}()
	}
	var final, retry error
	for range waiting {
		o := <-results
		switch {
		case o.err != nil:
			retry = sender.Retryf("cmpp: no SUBMIT_RESP (sent again after reconnecting): %s", sender.Snippet(o.err.Error()))
		case o.resp.Result != 0:
			e := submitError(o.resp.Result)
			if e.Retry {
				retry = e
			} else {
				final = e
			}
		default:
			ids[o.i] = strconv.FormatUint(o.resp.MsgID, 10)
		}
	}
	c.remember(m, ids)
	switch {
	case final != nil:
		return "", final
	case retry != nil:
		return "", retry
	}
	return ids[0], nil
}

// accepted returns the Msg_Ids of the parts of m the ISMG accepted on an
// earlier attempt, by part; "" for the others.
func (c *Client) accepted(m sms.Message, n int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, n)
	if p, ok := c.partial[m.ID]; ok && p.body == m.Body && len(p.ids) == n {
		copy(ids, p.ids)
	}
	return ids
}

// remember keeps the parts accepted of a message not wholly accepted, and
// forgets a message once it is.
func (c *Client) remember(m sms.Message, ids []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for id, p := range c.partial {
		if now.Sub(p.at) > partialTTL {
			delete(c.partial, id)
		}
	}
	some, all := false, true
	for _, id := range ids {
		some = some || id != ""
		all = all && id != ""
	}
	if all || !some {
		delete(c.partial, m.ID)
		return
	}
	c.partial[m.ID] = partialSend{body: m.Body, ids: ids, at: now}
}
