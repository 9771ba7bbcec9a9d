using Kefu.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddKefuGateway();

var app = builder.Build();
app.MapKefuGateway();
app.Run();
