package schema

import (
	"fmt"
	"reflect"
	"strings"
)

// structField is a struct field that can be a column.
type structField struct {
	name    string       // column name from the tags
	path    string       // Go path, such as "User.Address.City", for messages
	index   []int        // reflect field index path
	typ     reflect.Type // the field's type
	pk      bool         // tagged pk
	colType Type         // type from the tag, or 0
	depth   int
}

// structFields lists the fields of st that can be columns, in field order,
// flattening embedded structs as encoding/json does: of two fields with the
// same name the shallower wins, and two at the same depth are an error.
func structFields(st reflect.Type) ([]structField, error) {
	var all []structField
	if err := walkFields(st, nil, st.Name(), 0, map[reflect.Type]bool{}, &all); err != nil {
		return nil, err
	}
	byName := make(map[string]int, len(all))
	var out []structField
	for _, f := range all {
		j, dup := byName[f.name]
		switch {
		case !dup:
			byName[f.name] = len(out)
			out = append(out, f)
		case f.depth < out[j].depth:
			out[j] = f
		case f.depth == out[j].depth:
			return nil, fmt.Errorf("fields %s and %s have the same column name %q", out[j].path, f.path, f.name)
		}
	}
	return out, nil
}

func walkFields(st reflect.Type, prefix []int, path string, depth int, seen map[reflect.Type]bool, out *[]structField) error {
	if seen[st] {
		return nil
	}
	seen[st] = true
	defer delete(seen, st)
	for i := range st.NumField() {
		f := st.Field(i)
		tag, hasTag := f.Tag.Lookup("pagekit")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		jsonTag := f.Tag.Get("json")
		if jsonTag == "-" && !hasTag {
			continue
		}
		jsonName, _, _ := strings.Cut(jsonTag, ",")
		if jsonTag == "-" {
			jsonName = ""
		}
		index := append(append([]int(nil), prefix...), i)
		fpath := path + "." + f.Name
		if f.Anonymous && name == "" && jsonName == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != timeType && !isTextMarshaler(ft) {
				if err := walkFields(ft, index, fpath, depth+1, seen, out); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		sf := structField{name: name, path: fpath, index: index, typ: f.Type, depth: depth}
		if sf.name == "" {
			sf.name = jsonName
		}
		if sf.name == "" {
			sf.name = f.Name
		}
		for o := range strings.SplitSeq(opts, ",") {
			switch {
			case o == "":
			case strings.EqualFold(o, "pk"):
				sf.pk = true
			default:
				t, err := ParseType(o)
				if err != nil {
					return fmt.Errorf("field %s: tag option %q is neither pk nor a column type", fpath, o)
				}
				sf.colType = t
			}
		}
		*out = append(*out, sf)
	}
	return nil
}
