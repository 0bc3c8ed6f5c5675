# Two images that need the same GitHub token while they build (a .netrc for
# git over HTTPS); secbuild.yml says where the token comes from. The bake file
# names no variable and no plaintext file: the token reaches each build only as
# a secret mount, served by secbuild from a private tmpfs file.
variable "BASE_IMAGE" { default = "busybox:1.36" }

group "default" { targets = ["api", "worker"] }

target "api" {
  context = "api"
  args    = { BASE = BASE_IMAGE }
  tags    = ["secbuild-example-bake-api"]
  # Plain bake would read the file from $NETRC; secbuild serves this id from secbuild.yml instead.
  secret  = ["id=netrc,env=NETRC"]
}

target "worker" {
  context = "worker"
  args    = { BASE = BASE_IMAGE }
  tags    = ["secbuild-example-bake-worker"]
}
