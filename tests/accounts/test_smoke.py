def test_register_login_me(api_client, db):
    r = api_client.post("/api/v1/auth/register/", {"email": " Ada@Example.com ", "password": "correct-horse-battery"}, format="json")
    assert r.status_code == 201, r.json()
    r = api_client.post("/api/v1/auth/login/", {"email": "ADA@example.com", "password": "correct-horse-battery"}, format="json")
    assert r.status_code == 200, r.json()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer " + r.json()["access"])
    r = api_client.get("/api/v1/auth/me/")
    assert r.json()["email"] == "ada@example.com", r.json()
