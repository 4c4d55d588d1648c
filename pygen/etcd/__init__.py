"""The etcd source of etcd-gen: StoreClient interface, v3 and v2 clients, mirror.

Modules: ``store`` (interface and errors), ``keys`` (prefix and path rules, the template tree),
``endpoints`` (URLs, failover ring), ``v3`` + ``v3watch`` (etcd v3: the JSON gateway, reads over
gRPC) + ``v3proto`` (their protobuf), ``v2`` (legacy v2),
``mirror`` (the in-memory copy), ``source`` (EtcdSource for the engine), ``connect`` (factory).
"""
