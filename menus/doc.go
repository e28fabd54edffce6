// Package menus is Barefoot's domain core: the menu-tree model, its loader
// and validator, the compiled state machine that walks a caller through a
// tree, and the domain types that flow out of a walk (reports) or into it
// (the caller and the children they may report on).
//
// It knows no technology: no HTTP, Redis or SQL. A walk is a pure function:
// a session snapshot and an input give a new snapshot, a screen and, at a
// confirm node, an effect (a report to save) that the caller of this package
// applies and reports back. That keeps every channel (USSD, SMS) and every
// store honest to one set of rules, and lets the whole engine be tested and
// benchmarked without servers.
package menus
