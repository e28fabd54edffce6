package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/export"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/gofiber/fiber/v2"
)

// ReadLog records and returns reads of child data (storage.DB).
type ReadLog interface {
	RecordRead(ctx context.Context, e access.ReadEntry) error
	ReadLog(ctx context.Context, from, to time.Time, objectType, objectID string, limit int, loc *time.Location) ([]access.ReadRecord, error)
}

// readLogMax bounds one page of the read log; an inspection narrows the
// dates to see more.
const readLogMax = 10000

// readLogged records a successful read of child data, of objectType, whose
// id is the path parameter idParam ("" for lists and exports, recorded
// with their query). The record is written after the handler ran and
// before the response leaves: when it cannot be written the data is not
// sent and the caller gets an error instead, so the log never misses a
// read that happened.
func (a *API) readLogged(objectType, idParam string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := c.Next(); err != nil {
			return err
		}
		if code := c.Response().StatusCode(); code < 200 || code > 299 {
			return nil
		}
		e := access.ReadEntry{Actor: user(c), ObjectType: objectType, Remote: c.IP()}
		if idParam != "" {
			e.ObjectID = c.Params(idParam)
		} else {
			e.Query = string(c.Request().URI().QueryString())
		}
		if err := a.Reads.RecordRead(c.UserContext(), e); err != nil {
			a.Log.Error("read log", "err", err)
			c.Response().ResetBody()
			c.Response().Header.Del(fiber.HeaderContentDisposition)
			return a.write(c, fail(http.StatusServiceUnavailable, "unavailable", "the read could not be recorded; try again"))
		}
		return nil
	}
}

// readLog serves GET /audit/reads[.csv]?from=&to=&object_type=&object_id=:
// who read which child's data, when and from where, for an inspection.
func (a *API) readLog(format string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		from, to, err := a.dateRange(c)
		if err != nil {
			return a.write(c, err)
		}
		rows, err := a.Reads.ReadLog(c.UserContext(), from, to, c.Query("object_type"), c.Query("object_id"), readLogMax, a.loc())
		if err != nil {
			return a.write(c, err)
		}
		if format != "csv" {
			return c.JSON(fiber.Map{"entries": rows, "truncated": len(rows) == readLogMax})
		}
		t := export.Table{Columns: []export.Column{
			exportCol("at", export.Text, "时间", "Time"), exportCol("actor", export.Text, "用户", "User"),
			exportCol("object_type", export.Text, "类别", "Object"), exportCol("object_id", export.Text, "编号", "Id"),
			exportCol("query", export.Text, "查询条件", "Query"), exportCol("remote", export.Text, "来源地址", "From"),
		}}
		for _, r := range rows {
			t.Rows = append(t.Rows, map[string]any{"at": r.At, "actor": r.Actor, "object_type": r.ObjectType, "object_id": r.ObjectID, "query": r.Query, "remote": r.Remote})
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="barefoot-reads.csv"`)
		return export.CSV(c, t, c.Query("lang", menus.LangZH), a.loc())
	}
}

// dateRange reads ?from=&to= (YYYY-MM-DD, both required, days in the
// deployment's zone; to is included) as [from, to+1 day).
func (a *API) dateRange(c *fiber.Ctx) (from, to time.Time, err error) {
	var problems []Problem
	parse := func(key string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, c.Query(key), a.loc())
		if err != nil {
			problems = append(problems, Problem{Field: key, Message: "must be a date, YYYY-MM-DD"})
		}
		return d
	}
	from, to = parse("from"), parse("to")
	if problems == nil && to.Before(from) {
		problems = append(problems, Problem{Field: "to", Message: "is before from"})
	}
	if problems != nil {
		return time.Time{}, time.Time{}, invalidParams(problems)
	}
	return from, to.AddDate(0, 0, 1), nil
}
