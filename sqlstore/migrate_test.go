package sqlstore_test

import (
	"testing"
	"testing/fstest"

	"github.com/keyward/keyward/sqlstore"
)

func TestReadMigrations(t *testing.T) {
	ms, err := sqlstore.ReadMigrations(fstest.MapFS{
		"0010_later.sql":    {Data: []byte("CREATE TABLE b (x INT);")},
		"0002_second.sql":   {Data: []byte("CREATE TABLE a (x INT);")},
		"README.md":         {Data: []byte("not a migration")},
		"0001_first.sql":    {Data: []byte("SELECT 1;")},
		"sub/0003_deep.sql": {Data: []byte("ignored: not at the top")},
	})
	if err != nil {
		t.Fatalf("ReadMigrations: %v", err)
	}
	var got []int64
	for _, m := range ms {
		got = append(got, m.Version)
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 10 {
		t.Errorf("ReadMigrations: got versions %v, want [1 2 10]", got)
	}
	if ms[1].Name != "0002_second.sql" || ms[1].SQL != "CREATE TABLE a (x INT);" {
		t.Errorf("ReadMigrations: got %+v, want 0002_second.sql and its text", ms[1])
	}

	for name, fsys := range map[string]fstest.MapFS{
		"same number": {"0001_a.sql": {}, "01_b.sql": {}},
		"no number":   {"init.sql": {}},
		"zero":        {"0000_zero.sql": {}},
	} {
		if _, err := sqlstore.ReadMigrations(fsys); err == nil {
			t.Errorf("ReadMigrations with %s: got no error, want one", name)
		}
	}
}
