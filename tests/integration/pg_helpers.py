"""A private PostgreSQL cluster for the tests (tests/pgsql/cluster: a new
folder, loopback only, owned by "nobody" when run as root), one per
pytest session, with a fresh database per test:

    def test_x(pg_db):
        ... "storage_pgsql { conninfo \"%s\"; }" % pg_db ...

pg_cluster is the session's cluster: .conninfo(dbname), .psql(sql).
"""

import os
import subprocess
import uuid

import pytest

from conftest import TIMEOUT

SRC = os.environ.get("POSHTA_TOP_SRCDIR", os.path.join(
    os.path.dirname(__file__), "..", ".."))
CLUSTER = os.path.join(SRC, "tests", "pgsql", "cluster")


class Cluster:
    def __init__(self):
        out = subprocess.run([CLUSTER, "start"], check=True, text=True,
                             capture_output=True, timeout=120).stdout
        self.dir, self.base = out.strip().splitlines()

    def conninfo(self, dbname="poshta"):
        return self.base.replace("dbname=poshta", "dbname=" + dbname)

    def psql(self, sql, dbname="poshta"):
        """Run sql as the owner role; its output, tuples only."""
        return subprocess.run(
            ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
             self.conninfo(dbname), "-c", sql],
            check=True, text=True, capture_output=True,
            timeout=TIMEOUT).stdout

    def create_db(self):
        name = "t_" + uuid.uuid4().hex[:12]
        self.psql("CREATE DATABASE %s" % name)
        return name

    def stop(self):
        subprocess.run([CLUSTER, "stop", self.dir], check=False,
                       timeout=120)


@pytest.fixture(scope="session")
def pg_cluster():
    c = Cluster()
    yield c
    c.stop()


@pytest.fixture
def pg_db(pg_cluster):
    """conninfo of a new, empty database owned by the poshta role."""
    return pg_cluster.conninfo(pg_cluster.create_db())
