"""The portal's pages: public, and one workspace per role (each area has a module of views of its own)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from licita.portal.views import auditor, buyer, public, supplier

urlpatterns = [
    path("", include(public.urlpatterns)),
    path("comprador/", include(buyer.urlpatterns)),
    path("proveedor/", include(supplier.urlpatterns)),
    path("auditoria/", include(auditor.urlpatterns)),
    path("cuenta/entrar/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("cuenta/salir/", auth_views.LogoutView.as_view(), name="logout"),
    path("cuenta/contrasena/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("cuenta/contrasena/lista/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("cuenta/recuperar/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("cuenta/recuperar/enviado/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "cuenta/recuperar/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("cuenta/recuperar/listo/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
