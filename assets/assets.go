// Package assets embeds what the binaries ship: the icon and the translation catalogue
// (one JSON file per language, flat keys, go-i18n/fyne template syntax so
// the GUI can load the same files with fyne's lang package).
package assets

import "embed"

// Translations holds translations/{en,fr,it}.json.
//
//go:embed translations/*.json
var Translations embed.FS

// Languages are the languages of the catalogue; the first is the fallback.
var Languages = []string{"en", "fr", "it"}

// IconPNG is the application's icon, 512×512 (icons/paraphe.svg is its source).
//
//go:embed icons/paraphe.png
var IconPNG []byte

// DemoDeed is a two-page deed for trying the suite out (the demo journey
// signs a copy of it).
//
//go:embed demo/deed.pdf
var DemoDeed []byte
