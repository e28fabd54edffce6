package admin

import "github.com/gofiber/fiber/v2"

// ReportStore is what the report endpoints need of the database.
type ReportStore interface{}

// mountReports adds the report endpoints.
func (a *API) mountReports(r fiber.Router) {}
