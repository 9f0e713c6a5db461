#!/bin/sh
# The Redis users of the studio's team server. POSIX sh: runs in the redis:7 image.
#
#   redis-acl.sh write FILE   write the ACL file (mode 0600) from the passwords in the environment
#   redis-acl.sh serve        write /tmp/users.acl, then run redis-server with it (the container)
#
# REDIS_PASSWORD         the admin ("default" user): every command; for redis-cli, never for studios
# REDIS_WORKER_PASSWORD  user "worker": takes jobs off the studio's queues (GPU machines)
# REDIS_DESK_PASSWORD    user "desk": puts jobs on the studio's queues, nothing more (each desk)
#
# Passwords are stored as SHA-256 hashes, so the file holds none of them. Keys are Huey's for the
# queues named influencerai-<queue> (studio/engine/jobs/queues.py, redis_key): huey.redis.* is a
# queue, huey.schedule.* its delayed retries, huey.results.* its revoke records (a cancel).
set -eu

QUEUE="~huey.redis.influencerai*"
SCHEDULE="~huey.schedule.influencerai*"
RESULTS="~huey.results.influencerai*"

# Huey's PriorityRedisStorage, as the worker uses it: BZPOPMIN takes a job, ZADD queues one
# (retries, pipelines), EVALSHA runs its schedule script (ZRANGEBYSCORE + ZREMRANGEBYSCORE, loaded
# with SCRIPT LOAD), HGET/HMGET/HDEL read and clear revoke records; ZCARD/ZRANGE count and list.
WORKER="+zadd +bzpopmin +zpopmin +zcard +zrange +zrangebyscore +zremrangebyscore +evalsha +script|load"
WORKER="$WORKER +hset +hget +hmget +hdel +hexists"
# A desk: ZADD puts a job on a queue; ZCARD/ZRANGE let `jobs retry` see whether a job's message
# is still there; HSET on the revoke records cancels a waiting job. No pop, no delete, no other key.
DESK_QUEUE="+zadd +zcard +zrange $QUEUE"
DESK_SCHEDULE="(+zcard +zrange $SCHEDULE)"
DESK_RESULTS="(+hset $RESULTS)"
COMMON="+ping +select"  # keyless: a health check, and a URL naming a database other than 0

hash() {
    printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

need() {  # $1: variable name; refuses an empty or unset password
    eval "value=\${$1:-}"
    if [ -z "$value" ]; then
        echo "redis-acl.sh: set $1 (in .env beside compose.yaml)" >&2
        exit 2
    fi
    printf '%s' "$value"
}

write_acl() {  # $1: the file to write
    admin=$(need REDIS_PASSWORD)
    worker=$(need REDIS_WORKER_PASSWORD)
    desk=$(need REDIS_DESK_PASSWORD)
    umask 077
    cat >"$1" <<ACL
user default on #$(hash "$admin") ~* &* +@all
user worker on #$(hash "$worker") resetchannels -@all $COMMON $WORKER $QUEUE $SCHEDULE $RESULTS
user desk on #$(hash "$desk") resetchannels -@all $COMMON $DESK_QUEUE $DESK_SCHEDULE $DESK_RESULTS
ACL
}

case "${1:-}" in
    write)
        [ -n "${2:-}" ] || { echo "usage: redis-acl.sh write FILE" >&2; exit 2; }
        write_acl "$2"
        ;;
    serve)
        write_acl /tmp/users.acl
        if [ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1; then
            chown redis /tmp/users.acl  # the server runs as "redis" (below), not root
        fi
        # Append-only file: queued jobs survive a restart of the server.
        set -- redis-server --appendonly yes --dir /data --aclfile /tmp/users.acl
        # The image's own entrypoint hands the server to its unprivileged "redis" user.
        if command -v docker-entrypoint.sh >/dev/null 2>&1; then
            exec docker-entrypoint.sh "$@"
        fi
        exec "$@"
        ;;
    *)
        echo "usage: redis-acl.sh write FILE | serve" >&2
        exit 2
        ;;
esac
