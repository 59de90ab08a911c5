package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteWiresharkKeys turns a key log ("table: row" lines, as ike writes
// them) into the UAT files Wireshark and tshark read from a profile
// directory: ikev2_decryption_table and esp_sa. Point WIRESHARK_CONFIG_DIR
// at dir (and enable esp.enable_encryption_decode) to decrypt the captures.
func WriteWiresharkKeys(dir, keyLog string) error {
	tables := map[string][]string{}
	for _, l := range strings.Split(keyLog, "\n") {
		if table, row, ok := strings.Cut(l, ": "); ok {
			tables[table] = append(tables[table], row)
		}
	}
	if len(tables["ikev2_decryption_table"]) == 0 || len(tables["esp_sa"]) == 0 {
		return fmt.Errorf("demo: the key log holds no IKE or no ESP keys")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, name := range []string{"ikev2_decryption_table", "esp_sa"} {
		text := strings.Join(tables[name], "\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "preferences"), []byte("esp.enable_encryption_decode: TRUE\n"), 0o600)
}
