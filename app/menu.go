package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// sideMenu is the window's side menu and the screen it shows. It looks and
// answers like fyne's AppTabs with the tabs on the leading side (the same
// Items, Select, SelectIndex, Selected…), but its entries take the
// keyboard's focus: Tab reaches them, Space or Enter opens one, the arrow
// keys move between them, and Ctrl+1…5 open one from anywhere in the
// window (menuShortcuts).
type sideMenu struct {
	widget.BaseWidget
	Items []*container.TabItem

	keys     *keyboard
	selected int
	onSelect func()          // after an item is shown
	entries  *fyne.Container // the menuEntry of each item
	screen   *fyne.Container // the selected item's content
}

func (u *UI) newSideMenu(items ...*container.TabItem) *sideMenu {
	m := &sideMenu{Items: items, keys: &u.keys, entries: container.NewVBox(), screen: container.NewStack()}
	m.ExtendBaseWidget(m)
	m.Refresh()
	m.SelectIndex(0)
	return m
}

func (m *sideMenu) CreateRenderer() fyne.WidgetRenderer {
	line := canvas.NewRectangle(theme.Color(theme.ColorNameSeparator))
	line.SetMinSize(fyne.NewSize(theme.Padding()/2, 0))
	// The selected entry's bar lies over the line.
	column := container.NewStack(container.NewBorder(nil, nil, nil, line), m.entries)
	// The menu before the screen: Tab reaches it first.
	return widget.NewSimpleRenderer(container.New(layout.NewBorderLayout(nil, nil, column, nil), column, m.screen))
}

// Refresh redraws the entries from Items (after their Text changed).
func (m *sideMenu) Refresh() {
	for len(m.entries.Objects) < len(m.Items) {
		m.entries.Add(m.newEntry(len(m.entries.Objects)))
	}
	m.entries.Objects = m.entries.Objects[:len(m.Items)]
	for _, o := range m.entries.Objects {
		o.Refresh()
	}
	m.BaseWidget.Refresh()
}

// SelectIndex shows item i.
func (m *sideMenu) SelectIndex(i int) {
	if i < 0 || i >= len(m.Items) {
		return
	}
	m.selected = i
	if c := fyne.CurrentApp().Driver().CanvasForObject(m); c != nil {
		// fyne leaves the focus on a widget taken off the window: the
		// screen left would take what is typed next.
		if _, entry := c.Focused().(*menuEntry); !entry && c.Focused() != nil {
			c.Unfocus()
		}
	}
	m.screen.Objects = []fyne.CanvasObject{m.Items[i].Content}
	m.screen.Refresh()
	for _, o := range m.entries.Objects {
		o.Refresh()
	}
	if m.onSelect != nil {
		m.onSelect()
	}
}

// Select shows item.
func (m *sideMenu) Select(item *container.TabItem) {
	for i, it := range m.Items {
		if it == item {
			m.SelectIndex(i)
		}
	}
}

// SelectedIndex is the index of the item shown.
func (m *sideMenu) SelectedIndex() int { return m.selected }

// Selected is the item shown.
func (m *sideMenu) Selected() *container.TabItem { return m.Items[m.selected] }

// menuShortcuts are Ctrl+1…5 (Cmd on macOS): they open the side menu's
// entries.
var menuShortcuts = []fyne.KeyName{fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5}

// menuShortcut is the entry s opens, or -1.
func menuShortcut(s *desktop.CustomShortcut) int {
	if s.Modifier != fyne.KeyModifierShortcutDefault {
		return -1
	}
	for i, k := range menuShortcuts {
		if s.KeyName == k {
			return i
		}
	}
	return -1
}

// addMenuShortcuts puts Ctrl+1…5 on the window; they do nothing while a
// dialog or the activation wizard is in front.
func (u *UI) addMenuShortcuts() {
	for i, k := range menuShortcuts {
		u.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) {
			if len(u.keys.layers) == 0 && u.win.Content() == u.tabs {
				u.tabs.SelectIndex(i)
			}
		})
	}
}

// menuEntry is one entry of the side menu: an icon over its name, blue
// when selected, with a ring when it has the focus.
type menuEntry struct {
	widget.BaseWidget
	menu    *sideMenu
	index   int
	pressed fyne.KeyName
	focused bool
	hovered bool
}

func (m *sideMenu) newEntry(i int) *menuEntry {
	e := &menuEntry{menu: m, index: i}
	e.ExtendBaseWidget(e)
	return e
}

func (e *menuEntry) item() *container.TabItem { return e.menu.Items[e.index] }

func (e *menuEntry) Tapped(*fyne.PointEvent) { e.menu.SelectIndex(e.index) }

func (e *menuEntry) FocusGained()   { e.focused = true; e.Refresh() }
func (e *menuEntry) FocusLost()     { e.focused, e.pressed = false, ""; e.Refresh() }
func (e *menuEntry) TypedRune(rune) {}

// TypedKey moves between the entries with the arrow keys; Space and Enter
// act on release (KeyUp), as a button's.
func (e *menuEntry) TypedKey(ev *fyne.KeyEvent) {
	step := 0
	switch ev.Name {
	case fyne.KeyDown:
		step = 1
	case fyne.KeyUp:
		step = -1
	}
	if step == 0 {
		if !activates(ev.Name) {
			forwardKey(e, ev)
		}
		return
	}
	entries := e.menu.entries.Objects
	next := entries[(e.index+step+len(entries))%len(entries)].(*menuEntry)
	if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil {
		c.Focus(next)
	}
}

func (e *menuEntry) KeyDown(ev *fyne.KeyEvent) {
	e.menu.keys.presses = true
	if activates(ev.Name) {
		e.pressed = ev.Name
	}
}

func (e *menuEntry) KeyUp(ev *fyne.KeyEvent) {
	if e.pressed != "" && ev.Name == e.pressed {
		e.pressed = ""
		e.Tapped(nil)
	}
}

func (e *menuEntry) MouseIn(*desktop.MouseEvent)    { e.hovered = true; e.Refresh() }
func (e *menuEntry) MouseMoved(*desktop.MouseEvent) {}
func (e *menuEntry) MouseOut()                      { e.hovered = false; e.Refresh() }

func (e *menuEntry) CreateRenderer() fyne.WidgetRenderer {
	r := &menuEntryRenderer{e: e, background: canvas.NewRectangle(color.Transparent), bar: canvas.NewRectangle(color.Transparent),
		icon: canvas.NewImageFromResource(nil), label: canvas.NewText("", color.Black)}
	r.icon.FillMode = canvas.ImageFillContain
	r.label.TextStyle.Bold = true
	r.label.Alignment = fyne.TextAlignCenter
	inner := &menuEntryLayout{r}
	r.WidgetRenderer = widget.NewSimpleRenderer(container.New(inner, r.background, r.icon, r.label, r.bar))
	ring := canvas.NewRectangle(color.Transparent)
	rr := &ringRenderer{WidgetRenderer: r, ring: ring, focused: func() bool { return e.focused }, theme: e.Theme, inside: true}
	rr.Refresh()
	return rr
}

type menuEntryRenderer struct {
	fyne.WidgetRenderer
	e          *menuEntry
	background *canvas.Rectangle
	bar        *canvas.Rectangle // at the trailing edge of the selected entry
	icon       *canvas.Image
	label      *canvas.Text
}

func (r *menuEntryRenderer) Refresh() {
	th := r.e.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	it := r.e.item()
	selected := r.e.menu.selected == r.e.index
	r.label.Text = it.Text
	r.label.TextSize = th.Size(theme.SizeNameText)
	r.label.Color = th.Color(theme.ColorNameForeground, v)
	icon := it.Icon
	if selected {
		r.label.Color = th.Color(theme.ColorNamePrimary, v)
		icon = theme.NewPrimaryThemedResource(icon)
	}
	r.icon.Resource = icon
	r.bar.FillColor = color.Transparent
	if selected {
		r.bar.FillColor = th.Color(theme.ColorNamePrimary, v)
	}
	r.background.FillColor = color.Transparent
	if r.e.hovered {
		r.background.FillColor = th.Color(theme.ColorNameHover, v)
	}
	r.background.CornerRadius = th.Size(theme.SizeNameSelectionRadius)
	r.WidgetRenderer.Refresh()
	canvas.Refresh(r.e)
}

// menuEntryLayout puts the icon over the name, the bar on the right.
type menuEntryLayout struct{ r *menuEntryRenderer }

func (l *menuEntryLayout) sizes() (pad, icon float32) {
	th := l.r.e.Theme()
	return th.Size(theme.SizeNamePadding), th.Size(theme.SizeNameInlineIcon) * 2
}

func (l *menuEntryLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	pad, icon := l.sizes()
	text := l.r.label.MinSize()
	return fyne.NewSize(fyne.Max(text.Width, icon)+4*pad, icon+text.Height+3*pad)
}

func (l *menuEntryLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	pad, icon := l.sizes()
	l.r.background.Resize(size)
	l.r.icon.Resize(fyne.NewSquareSize(icon))
	l.r.icon.Move(fyne.NewPos((size.Width-icon)/2, pad))
	text := l.r.label.MinSize()
	l.r.label.Resize(fyne.NewSize(size.Width, text.Height))
	l.r.label.Move(fyne.NewPos(0, icon+2*pad))
	l.r.bar.Resize(fyne.NewSize(pad/2, size.Height))
	l.r.bar.Move(fyne.NewPos(size.Width-pad/2, 0))
}

var _ fyne.Layout = (*menuEntryLayout)(nil)
