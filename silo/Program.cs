using Kefu.Silo;

// The standalone silo host: the same silo configuration the embedded gateway uses, plus the admin-only dashboard.
var builder = WebApplication.CreateBuilder(args);
builder.AddKefuSilo();

var app = builder.Build();
app.MapKefuSilo();
app.Run();
