# Stretch 3 forwards each tenant's requests through your task-20 tenant_pool
# (from_pool in ingress.hpp). Your stub links your own tenant_pool.cpp; the
# reference links the reference's.
workbook_task_uses(task-20)

# ingress_impl.hpp is yours (what ingress::impl keeps, and what your three
# .cpp files share); ingress.hpp is the contract.
workbook_task_student_headers(ingress_impl.hpp)

# The tests' TLS client, and the compiled-once HTTP reads and writes over a
# server's ssl::stream (workbook/tls_serve.hpp) that your ingress may use.
workbook_task_libraries(workbook_tls_client workbook_tls_serve)
