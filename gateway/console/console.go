// Package console serves the administrators' web console: a single page
// whose assets are embedded in the binary, for county offices that are
// offline or behind a filter, and that talks only to the admin API.
package console

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

//go:embed static
var static embed.FS

// csp allows nothing but this origin: no inline script, no CDN, no frames.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Mount serves the console at /admin.
func Mount(app *fiber.App) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // fixed at build time
	}
	secure := func(c *fiber.Ctx) error {
		c.Set("Content-Security-Policy", csp)
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("Referrer-Policy", "no-referrer")
		return c.Next()
	}
	app.Get("/admin", secure, func(c *fiber.Ctx) error {
		page, err := fs.ReadFile(sub, "index.html")
		if err != nil {
			return err
		}
		c.Set("Cache-Control", "no-store")
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(page)
	})
	app.Use("/admin/static", secure, filesystem.New(filesystem.Config{Root: http.FS(sub)}))
}
