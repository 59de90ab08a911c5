package freeradius

import "text/template"

// radiusdConf is a complete, minimal radiusd.conf: no includes of the
// Debian defaults, so the test controls every module.
var radiusdConf = template.Must(template.New("radiusd.conf").Funcs(funcs).Parse(`
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
raddbdir = {{.Dir}}
confdir = {{.Dir}}
modconfdir = {{.Dir}}
certdir = {{.Dir}}/certs
cadir = {{.Dir}}/certs
logdir = {{.Dir}}/log
radacctdir = {{.Dir}}/acct
run_dir = {{.Dir}}/run
db_dir = {{.Dir}}
libdir = /usr/lib/freeradius
pidfile = {{.Dir}}/run/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 2
max_requests = 4096
hostname_lookups = no

log {
	destination = stdout
	colourise = no
	auth = yes
	auth_badpass = no
	auth_goodpass = no
}

security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}

proxy_requests = {{if .Realms}}yes{{else}}no{{end}}
{{if .Realms}}$INCLUDE proxy.conf{{end}}
$INCLUDE clients.conf

thread pool {
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 4
	max_requests_per_server = 0
	auto_limit_acct = no
}

modules {
	always ok {
		rcode = ok
	}
	realm suffix {
		format = suffix
		delimiter = "@"
	}
	files {
		filename = {{.Dir}}/users
	}
	pap {
	}
	mschap {
	}
	detail {
		filename = {{.Dir}}/acct/detail
		permissions = 0600
		header = "%t"
	}
	eap {
		default_eap_type = {{.DefaultEAPType}}
		timer_expire = 60
		ignore_unknown_eap_types = no
		cisco_accounting_username_bug = no
		max_sessions = 4096
		md5 {
		}
		mschapv2 {
			send_error = no
		}
		tls-config tls-common {
			private_key_file = ${certdir}/server.key
			certificate_file = ${certdir}/server.pem
			ca_file = ${cadir}/ca.pem
			ca_path = ${cadir}
			fragment_size = 1024
			cipher_list = "DEFAULT"
			cipher_server_preference = no
			tls_min_version = "1.2"
			tls_max_version = "1.2"
			ecdh_curve = "prime256v1"
			cache {
				enable = no
			}
			verify {
			}
			ocsp {
				enable = no
			}
		}
		tls {
			tls = tls-common
		}
	}
}

instantiate {
}

policy {
}

server default {
	listen {
		type = auth
		ipv6addr = {{.Listen}}
		port = {{.AuthPort}}
	}
	listen {
		type = acct
		ipv6addr = {{.Listen}}
		port = {{.AcctPort}}
	}
	authorize {
{{- if .Realms}}
		suffix
{{- end}}
		files
		eap {
			ok = return
		}
		pap
	}
	authenticate {
		eap
		Auth-Type PAP {
			pap
		}
		Auth-Type MS-CHAP {
			mschap
		}
	}
	preacct {
{{- if .Realms}}
		suffix
{{- end}}
	}
	accounting {
		detail
		ok
	}
	post-auth {
		# The real identity for the home agent (RFC 4877 §8): the
		# certificate's name for EAP-TLS, else the EAP identity.
		if (&TLS-Client-Cert-Common-Name) {
			update reply {
				User-Name := "%{TLS-Client-Cert-Common-Name}"
			}
		}
		else {
			update reply {
				User-Name := "%{User-Name}"
			}
		}
		Post-Auth-Type REJECT {
			eap
		}
	}
}
`))

var clientsConf = template.Must(template.New("clients.conf").Funcs(funcs).Parse(`
client loopback6 {
	ipv6addr = ::1
	secret = {{q .Secret}}
	shortname = loopback6
	require_message_authenticator = no
}
client lab {
	ipv6addr = 2001:db8::/32
	secret = {{q .Secret}}
	shortname = lab
	require_message_authenticator = no
}
`))

var usersFile = template.Must(template.New("users").Funcs(funcs).Parse(`
{{- range .Users}}{{if .Password}}
{{q .Name}}	Cleartext-Password := {{q .Password}}
{{end}}{{end}}`))

// proxyConf sends each realm to its home server (auth on Port, accounting
// on Port+1); everything else stays local.
var proxyConf = template.Must(template.New("proxy.conf").Funcs(funcs).Parse(`
proxy server {
	default_fallback = no
}
{{- range $i, $r := .Realms}}
home_server home{{$i}} {
	type = auth+acct
	ipv6addr = {{$r.Host}}
	port = {{$r.Port}}
	secret = {{q $r.Secret}}
	response_window = 10
	zombie_period = 40
	revive_interval = 60
	status_check = none
}
home_server_pool pool{{$i}} {
	type = fail-over
	home_server = home{{$i}}
}
realm {{$r.Name}} {
	auth_pool = pool{{$i}}
	acct_pool = pool{{$i}}
	nostrip
}
{{- end}}
realm LOCAL {
}
`))
