package admin

import "github.com/gofiber/fiber/v2"

// RegistryStore is what the registry endpoints need of the database.
type RegistryStore interface{}

// mountRegistry adds the registry endpoints.
func (a *API) mountRegistry(r fiber.Router) {}
